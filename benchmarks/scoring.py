"""How a clustering is scored against the ground truth: pairwise precision, recall and F1,
blocking recall of candidate pairs, and the cluster label of every record from whatever shape
a matcher returns its clusters in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["labels_from_clusters", "pair_recall", "pairwise_scores"]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of a clustering against the true one.

    ``truth[i]`` and ``predicted[i]`` are the true and predicted cluster labels of record ``i``.
    Pairs are counted from cluster sizes (n choose 2 per predicted cluster, per true cluster and
    per intersection), never enumerated. With no predicted pair precision is 1.0 (no wrong
    link was made); with no true pair recall is 1.0; F1 is 0.0 when both are 0.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predicted labels")
    true_pairs = sum(_pairs(n) for n in Counter(truth).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted).values())
    both = sum(_pairs(n) for n in Counter(zip(truth, predicted, strict=True)).values())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": both,
        "records": len(truth),
        "true_clusters": len(set(truth)),
        "predicted_clusters": len(set(predicted)),
    }


def pair_recall(
    truth: Mapping[str, Hashable], pairs: Iterable[tuple[str, str]]
) -> tuple[float, int]:
    """Share of the true pairs among candidate ``pairs`` of record ids (blocking recall), and
    the number of distinct candidate pairs."""
    seen: set[tuple[str, str]] = set()
    for a, b in pairs:
        seen.add((a, b) if a <= b else (b, a))
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    found = sum(1 for a, b in seen if truth[a] == truth[b])
    return (found / true_pairs if true_pairs else 1.0), len(seen)


def labels_from_clusters(clusters: Any, record_ids: Sequence[str]) -> list[Hashable]:
    """Predicted label per record from what a matcher returned.

    Accepts an object with a ``clusters`` attribute, a mapping record id -> cluster id, a
    mapping cluster id -> member ids, or an iterable of clusters, each an iterable of record
    ids or an object with ``record_ids`` / ``members``. Records in no cluster are singletons.
    """
    if hasattr(clusters, "clusters"):
        clusters = clusters.clusters
    label: dict[str, Hashable] = {}
    if isinstance(clusters, Mapping):
        items = list(clusters.items())
        if items and isinstance(items[0][1], str | int):
            label = {str(k): v for k, v in items}
        else:
            for cluster_id, members in items:
                for record_id in _members(members):
                    label[record_id] = cluster_id
    else:
        for number, cluster in enumerate(clusters):
            cluster_id = getattr(cluster, "cluster_id", None) or getattr(cluster, "id", None)
            for record_id in _members(cluster):
                label[record_id] = ("c", number if cluster_id is None else cluster_id)
    return [label.get(record_id, ("s", record_id)) for record_id in record_ids]


def _members(cluster: Any) -> list[str]:
    for attribute in ("record_ids", "members"):
        if hasattr(cluster, attribute):
            cluster = getattr(cluster, attribute)
            break
    if isinstance(cluster, str):
        return [cluster]
    return [str(getattr(m, "record_id", m)) for m in cluster]
