"""Panel sync's writes, by noun: the connection, the catalogue mapping, pushes, pulls and
conflicts."""
