"""One bound for every wait in the browser tests. A wait ends as soon as the page shows what it
waits for, so a generous bound costs nothing when the code works; it only decides how long a
failing test takes to say so. CI may share its cores (load 15 and more was seen with soaks
running): ten seconds was too short there for a callback round trip plus a render."""

WAIT_MS = 60_000
