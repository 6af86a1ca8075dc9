// The check-in page's camera: where the browser has BarcodeDetector, a button reads the QR
// code of a booking's confirmation (its reservation code) and searches for it; elsewhere the
// code is typed in the same field. No inline handlers: the CSP allows none.
(() => {
  const button = document.querySelector("[data-scan]");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  const form = document.getElementById(button.dataset.scan);
  const field = form.querySelector("input[name=q]");
  const video = form.querySelector("[data-scan-video]");
  let stream = null;

  const stop = () => {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    button.setAttribute("aria-pressed", "false");
  };

  const look = async (detector) => {
    if (!stream) return;
    const found = await detector.detect(video).catch(() => []);
    if (found.length) {
      field.value = found[0].rawValue.trim();
      stop();
      form.requestSubmit();
      return;
    }
    setTimeout(() => look(detector), 250);
  };

  button.hidden = false;
  button.addEventListener("click", async () => {
    if (stream) return stop();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      return; // no camera, or not allowed: the code is typed
    }
    video.srcObject = stream;
    video.hidden = false;
    button.setAttribute("aria-pressed", "true");
    await video.play();
    look(detector);
  });
})();
