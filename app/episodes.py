"""The named episodes of ``data/episodes.csv`` read from disk (parsed by ``risk.episodes``):
the kline cache keeps minute bars for their windows, the Outlook replays them."""

from __future__ import annotations

import logging
from pathlib import Path

from risk.episodes import Episode, parse_episodes

log = logging.getLogger(__name__)

EPISODES_CSV = Path(__file__).resolve().parents[1] / "data" / "episodes.csv"


def load_episodes(path: Path = EPISODES_CSV) -> tuple[Episode, ...]:
    """The episodes in ``path``; none (with a warning in the log) when the file is absent, so
    the replays say that no episode is known rather than stopping the collector. A file that
    is there but unreadable raises ValueError naming the line."""
    if not path.is_file():
        log.warning("no episodes file at %s: no episode windows are cached or replayed", path)
        return ()
    return parse_episodes(path.read_text(encoding="utf-8"))
