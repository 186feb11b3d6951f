"""One figure of a bench script beside its limit, in the form bench/table.py collects.

Each bench script takes `--json FILE` and writes there the rows it printed: what was measured, the figure,
its unit, the limit from issue 15, whether the figure must be at most or at least that limit, the ratio
figure / limit, and the load average while it ran (the machine is shared: a ratio measured beside its limit in
the same run is what to read).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    what: str
    figure: float
    unit: str
    limit: float
    at_most: bool = True  # False: the figure must reach the limit (requests/s as a share of the bare app)
    load: float = 0.0

    @property
    def ratio(self) -> float:
        return self.figure / self.limit

    @property
    def met(self) -> bool:
        return self.figure <= self.limit if self.at_most else self.figure >= self.limit


def load_average() -> float:
    return os.getloadavg()[0]


def write_rows(path: Path | None, rows: list[Row]) -> None:
    if path is not None:
        path.write_text(json.dumps([asdict(row) | {"ratio": row.ratio} for row in rows], ensure_ascii=False))


def read_rows(path: Path) -> list[Row]:
    return [Row(**{key: value for key, value in row.items() if key != "ratio"}) for row in json.loads(path.read_text())]
