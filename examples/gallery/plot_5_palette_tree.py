"""
Large hierarchies from vectors, and the palette tree
====================================================

:func:`pixclust.linkage_vector` clusters observations without the distance matrix, in O(n d) memory:
the ``n(n-1)/2`` distances are computed as they are needed, never stored. Single linkage is SciPy's
matrix to the bit; Ward, centroid and median give SciPy's merges with heights within about 1e-12.

:func:`pixclust.palette_tree` joins the tutorial's two halves: Ward's hierarchy of a photo's distinct
colours, each weighted by its pixel count, which is Ward's tree over every pixel. Cutting it gives the
image in any number of colours without clustering again, and the cuts are nested.
"""

import time
from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt
from PIL import Image
from scipy.cluster.hierarchy import fcluster, is_valid_linkage

import pixclust
from pixclust import plot

# %%
# A linkage of 20,000 points
# --------------------------
# Their condensed distance matrix would hold 2 x 10^8 doubles (1.6 GB); ``linkage_vector`` needs a few
# megabytes.
rng = np.random.default_rng(0)
centres = rng.normal(scale=6.0, size=(5, 3))
X = centres[rng.integers(0, 5, 20_000)] + rng.normal(size=(20_000, 3))

start = time.perf_counter()
Z = pixclust.linkage_vector(X, "ward")
print(f"Ward linkage of {len(X)} points: {time.perf_counter() - start:.2f} s; valid: {is_valid_linkage(Z)}")
flat = fcluster(Z, 5, criterion="maxclust")
print("cluster sizes:", np.bincount(flat)[1:])

fig, ax = plt.subplots(figsize=(5, 4))
plot.scatter(X[::10, :2], flat[::10], title="every tenth point, by Ward's five clusters", ax=ax)
fig.tight_layout()

# %%
# The palette tree of a photo
# ---------------------------
# Every third pixel of each row and column (about 10^4 distinct colours: the tree is O(m^2) in time
# for m distinct colours).
image = np.asarray(Image.open(Path(pixclust.__file__).parent / "data" / "chelsea.png").convert("RGB"))
tree = pixclust.palette_tree(image[::3, ::3])
fig, ax = plt.subplots(figsize=(10, 4))
tree.dendrogram(12, ax=ax)
fig.tight_layout()

# %%
# Cuts of the one tree, for several numbers of colours:
fig, axes = plt.subplots(1, 4, figsize=(12, 2.6))
for ax, k in zip(axes, [2, 4, 8, 16]):
    ax.imshow(tree.cut(k).image)
    ax.set_title(f"{k} colours")
    ax.axis("off")
fig.tight_layout()
