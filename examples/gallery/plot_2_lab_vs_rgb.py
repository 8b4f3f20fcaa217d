"""
Colour quantization in CIELAB vs RGB
====================================

k-means in RGB minimises the squared RGB error, which is not what the eye sees: equal RGB steps are
large differences in dark blues and small ones in light greens. ``space="lab"`` clusters in CIELAB,
where distance follows perceived difference better, and returns the palette in RGB. The titles give the
mean CIE76 colour difference (Delta E) of the pixels to their palette colour: lower is closer.
"""

from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt
from PIL import Image

import pixclust
from pixclust import plot

image = np.asarray(Image.open(Path(pixclust.__file__).parent / "data" / "rocket.jpg").convert("RGB"))
lab = pixclust.to_lab(image)


def mean_delta_e(result: pixclust.QuantizeResult) -> float:
    """Mean CIE76 difference between the original and the quantized pixels."""
    return float(np.linalg.norm(pixclust.to_lab(result.image) - lab, axis=-1).mean())


rgb = pixclust.quantize(image, 6, random_state=0)
perceptual = pixclust.quantize(image, 6, space="lab", random_state=0)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, shown, title in [
    (axes[0], image, "original"),
    (axes[1], rgb.image, f"6 colours, RGB k-means (mean Delta E {mean_delta_e(rgb):.2f})"),
    (axes[2], perceptual.image, f"6 colours, CIELAB k-means (mean Delta E {mean_delta_e(perceptual):.2f})"),
]:
    ax.imshow(shown)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %%
# The two palettes, each colour's share of the pixels below it (:mod:`pixclust.plot` draws into
# matplotlib axes given as ``ax=``):
fig, axes = plt.subplots(1, 2, figsize=(10, 2.4))
plot.palette(rgb, title="RGB k-means", ax=axes[0])
plot.palette(perceptual, title="CIELAB k-means", ax=axes[1])
fig.tight_layout()
