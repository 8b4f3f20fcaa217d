"""
Dithering onto a palette
========================

:func:`pixclust.dither` maps each pixel to its nearest palette colour and spreads the error over the
neighbours not yet visited (Floyd-Steinberg), scanning the rows alternately left to right and right to
left. Flat areas keep their average colour: the bands of the plain 8-colour picture become a fine
texture. The arithmetic is integer and specified in ``dither.hpp``, so the result is the same on every
machine.
"""

from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt
from PIL import Image

import pixclust

image = np.asarray(Image.open(Path(pixclust.__file__).parent / "data" / "chelsea.png").convert("RGB"))
result = pixclust.quantize(image, 8, random_state=0)
dithered, labels = pixclust.dither(image, result.palette, return_labels=True)
print("palette colours used:", np.unique(labels).size, "of", len(result.palette))

fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
for ax, shown, title in [(axes[0], image, "original"), (axes[1], result.image, "8 colours"),
                         (axes[2], dithered, "8 colours, dithered")]:
    ax.imshow(shown, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()

# %%
# A detail, four times enlarged: every pixel of the dithered image is one of the 8 palette colours.
rows, cols = slice(80, 160), slice(150, 250)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, shown, title in [(axes[0], result.image, "8 colours"), (axes[1], dithered, "dithered")]:
    ax.imshow(shown[rows, cols], interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
