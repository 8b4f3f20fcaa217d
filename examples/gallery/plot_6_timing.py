"""
Timing a fit against scikit-learn
=================================

The tutorial's fit, ``KMeans(n_clusters=k, random_state=42, n_init="auto").fit(image.reshape(-1, 3))``,
timed with scikit-learn and with pixclust on the bundled photo. pixclust clusters the photo's distinct
colours weighted by their counts (the same objective), with k-means++ drawing the pixels scikit-learn
draws, so the inertias agree too. Times are from the machine that built this page, a small one; see
:doc:`/benchmarks` for larger images.
"""

import time
from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.image import imread
from sklearn.cluster import KMeans as SKLearnKMeans

import pixclust

image = imread(Path(pixclust.__file__).parent / "data" / "rocket.jpg")
data = image.reshape(-1, 3)
print(f"{data.shape[0]} pixels, {len(np.unique(data, axis=0))} distinct colours")


def best_time(make, repeat=3):
    """The fastest of a few fits, and the last fitted estimator."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fitted = make().fit(data)
        times.append(time.perf_counter() - start)
    return min(times), fitted


ks = [2, 4, 8]
rows = []
for k in ks:
    t_sk, sk = best_time(lambda: SKLearnKMeans(n_clusters=k, random_state=42, n_init="auto"))
    t_px, px = best_time(lambda: pixclust.KMeans(n_clusters=k, random_state=42, n_init="auto"))
    rows.append((k, t_sk, t_px, sk.inertia_, px.inertia_))

print(f"{'k':>3} | {'scikit-learn':>12} | {'pixclust':>9} | {'speed-up':>8} | inertia, scikit-learn / pixclust")
for k, t_sk, t_px, i_sk, i_px in rows:
    print(f"{k:>3} | {t_sk:>10.3f} s | {t_px:>7.3f} s | {t_sk / t_px:>7.1f}x | {i_sk:.6g} / {i_px:.6g}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
width = 0.38
x = np.arange(len(ks))
ax.bar(x - width / 2, [r[1] for r in rows], width, label="scikit-learn")
ax.bar(x + width / 2, [r[2] for r in rows], width, label="pixclust")
ax.set_xticks(x, [f"k = {k}" for k in ks])
ax.set_ylabel("seconds (best of 3)")
ax.legend()
fig.tight_layout()
