"""
One palette for several images
==============================

To give several images one common set of colours (frames of an animation, the pages of a comic, a
set of icons), cluster all their pixels together and map each image onto the result.
:class:`pixclust.dask.KMeans` does it without concatenating the images in memory: each image is one
chunk of a Dask array, each chunk is reduced to its distinct colours and counts, the counts are merged,
and the merged colours are clustered. The centres are the same bits as ``pixclust.KMeans`` on the
concatenated pixels' distinct colours, for any chunking.
"""

from pathlib import Path

import dask.array as da
import numpy as np
from matplotlib import pyplot as plt
from PIL import Image

import pixclust
from pixclust import plot
from pixclust.dask import KMeans as DaskKMeans

data = Path(pixclust.__file__).parent / "data"
images = [np.asarray(Image.open(data / name).convert("RGB")) for name in ("chelsea.png", "rocket.jpg")]
# the second image twice smaller, so both weigh about the same in the palette
images[1] = images[1][::2, ::2]

pixels = da.concatenate([da.from_array(im.reshape(-1, 3), chunks=(-1, 3)) for im in images])
shared = DaskKMeans(n_clusters=8, random_state=0).fit(pixels)
palette = np.rint(shared.cluster_centers_).astype(np.uint8)

# %%
# The fit is exact: the same centres as the in-memory estimator on the distinct colours of all pixels,
# weighted by their counts.
colors, counts = np.unique(np.concatenate([im.reshape(-1, 3) for im in images]), axis=0, return_counts=True)
reference = pixclust.KMeans(n_clusters=8, random_state=0).fit(colors, sample_weight=counts)
print("same centres as the in-memory fit:", np.array_equal(shared.cluster_centers_, reference.cluster_centers_))

# %%
# Each image mapped onto the shared palette: the nearest colour (``predict``), and dithered.
fig, axes = plt.subplots(2, 3, figsize=(11, 5.6))
for row, im in zip(axes, images):
    labels = shared.predict(da.from_array(im.reshape(-1, 3))).compute().reshape(im.shape[:2])
    for ax, shown, title in [(row[0], im, "original"), (row[1], palette[labels], "shared palette"),
                             (row[2], pixclust.dither(im, palette), "shared palette, dithered")]:
        ax.imshow(shown)
        ax.set_title(title)
        ax.axis("off")
fig.tight_layout()

# %%
# The shared palette, each colour's share of all the pixels:
all_labels = shared.labels_.compute()
fig, ax = plt.subplots(figsize=(6, 2.4))
plot.palette(palette, np.bincount(all_labels, minlength=8), title="one palette, two images", ax=ax)
fig.tight_layout()
