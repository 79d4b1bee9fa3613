"""Writes assets/alarm.wav: the alarm the dashboard loops until an alert is acknowledged.

Two short tones (880 Hz, then 660 Hz), 0.18 s each with soft edges, then 0.5 s of silence:
about one alarm per second, loud enough across a room, not a siren. Run once; the file is
committed: ``python scripts/alarm_sound.py``.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
OUT = Path(__file__).resolve().parents[1] / "assets" / "alarm.wav"


def tone(freq: float, seconds: float, volume: float = 0.8) -> list[int]:
    n = int(RATE * seconds)
    edge = int(RATE * 0.01)
    out = []
    for i in range(n):
        envelope = min(1.0, i / edge, (n - i) / edge)
        out.append(int(32767 * volume * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    return out


def main() -> None:
    samples = tone(880, 0.18) + [0] * int(RATE * 0.06) + tone(660, 0.18) + [0] * int(RATE * 0.5)
    with wave.open(str(OUT), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
