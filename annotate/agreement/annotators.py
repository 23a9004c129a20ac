"""Per-annotator behaviour: time per task (Label Studio's lead_time) and a rubber-stamping flag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import tables as t
from .model_vs_human import ACCEPTED, OUTCOME, PREDICTED_OUTCOMES

# An annotator is flagged when they accept nearly everything AND are much faster than their peers.
ACCEPT_THRESHOLD = 0.95  # share of predicted spans accepted unchanged
SPEED_RATIO = 0.5  # their median seconds per task at most this fraction of their peers' median
MIN_TASKS = 5  # fewer compared tasks than this is too little to judge

TIME_COLUMNS = [t.ANNOTATOR, "n_tasks", "n_timed", "median_seconds", "mean_seconds", "p90_seconds", "total_seconds"]


def time_per_task(tables: t.Tables) -> pd.DataFrame:
    """Seconds per task per annotator from lead_time; tasks without a lead_time are counted but not timed."""
    anns = tables.annotations
    rows = []
    for name in tables.annotators:
        times = anns.loc[anns[t.ANNOTATOR] == name, t.LEAD_TIME].to_numpy(np.float64)
        timed = times[np.isfinite(times)]
        stats = [np.median(timed), timed.mean(), np.percentile(timed, 90), timed.sum()] if timed.size else [np.nan] * 4
        rows.append([name, len(times), int(timed.size), *stats])
    return pd.DataFrame(rows, columns=TIME_COLUMNS)


def rubber_stamping(tables: t.Tables, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: acceptance rate, median time against peers, and whether both point to rubber-stamping."""
    predicted = outcomes[outcomes[OUTCOME].isin(PREDICTED_OUTCOMES)]
    anns = tables.annotations
    rows = []
    for name in tables.annotators:
        mine = predicted[predicted[t.ANNOTATOR] == name]
        n_pred = len(mine)
        rate = float((mine[OUTCOME] == ACCEPTED).mean()) if n_pred else np.nan
        own = anns.loc[anns[t.ANNOTATOR] == name, t.LEAD_TIME].dropna()
        peers = anns.loc[anns[t.ANNOTATOR] != name, t.LEAD_TIME].dropna()
        own_median = float(own.median()) if len(own) else np.nan
        peer_median = float(peers.median()) if len(peers) else np.nan
        ratio = own_median / peer_median if peer_median and np.isfinite(peer_median) else np.nan
        n_tasks = int(mine[t.DOC].nunique())
        flagged, reason = _judge(n_tasks, rate, ratio, own, peers)
        rows.append([name, n_tasks, n_pred, rate, own_median, peer_median, ratio, flagged, reason])
    return pd.DataFrame(rows, columns=[t.ANNOTATOR, "n_tasks", "n_predicted", "accepted_rate", "median_seconds",
                                       "peer_median_seconds", "time_ratio", "flagged", "reason"])


def _judge(n_tasks: int, rate: float, ratio: float, own: pd.Series, peers: pd.Series) -> tuple[bool | None, str]:
    if n_tasks < MIN_TASKS:
        return None, f"only {n_tasks} task(s) with predictions; at least {MIN_TASKS} are needed to judge"
    if own.empty or peers.empty:
        return None, "no lead_time for this annotator or for any peer; speed cannot be compared"
    fast = ratio <= SPEED_RATIO
    accepting = rate >= ACCEPT_THRESHOLD
    if fast and accepting:
        return True, (f"accepted {rate:.0%} of predicted spans unchanged (threshold {ACCEPT_THRESHOLD:.0%}) "
                      f"in {ratio:.0%} of peers' median time per task (threshold {SPEED_RATIO:.0%})")
    return False, f"accepted {rate:.0%} unchanged; median time {ratio:.0%} of peers'"
