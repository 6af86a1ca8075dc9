// The booking form's passenger steppers. Without JavaScript each − / + button posts the form
// and the server sends it back with the count moved; here the count moves in the page, within
// the input's min and max, and the input's own htmx trigger updates the live total.
// No inline handlers: the CSP allows none.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-step]");
  const input = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!input) return;
  event.preventDefault();
  const min = input.min === "" ? 0 : Number(input.min);
  const max = input.max === "" ? Infinity : Number(input.max);
  const count = Number.parseInt(input.value, 10) || 0;
  const next = Math.min(max, Math.max(min, count + Number(button.dataset.step)));
  if (next === count && String(next) === input.value) return;
  input.value = String(next);
  input.dispatchEvent(new Event("input", { bubbles: true }));
});
