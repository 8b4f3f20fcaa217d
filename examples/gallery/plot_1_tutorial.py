"""
K-means on pixels and hierarchical clustering: the tutorial
===========================================================

The classic tutorial, with pixclust's imports: group a photo's pixels into 3 colours with k-means, then
into 10, 8, 6, 4 and 2 colours side by side, then cluster ten points hierarchically (``pdist``,
``linkage``, ``dendrogram``, ``fcluster`` by distance and by number of clusters) and draw them as a
scatter. Only the imports change: :class:`pixclust.KMeans` replaces :class:`sklearn.cluster.KMeans`
and :func:`pixclust.linkage` replaces :func:`scipy.cluster.hierarchy.linkage`.
"""

# %%
# Used modules
# ------------
from pathlib import Path

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.image import imread
from scipy.cluster.hierarchy import dendrogram, fcluster
from scipy.spatial.distance import pdist

import pixclust
from pixclust import KMeans, linkage  # instead of sklearn.cluster / scipy.cluster.hierarchy

# %%
# Group the image in 3 clusters, by 3 colours
# -------------------------------------------
# The bundled JPEG stands in for the tutorial's photo: ``imread`` gives an H x W x 3 uint8 array.
image = imread(Path(pixclust.__file__).parent / "data" / "rocket.jpg")
print(image.shape, image.dtype)

# for the image we need 3-D vectors, one per pixel:
data = image.reshape(-1, 3)

# 3 clusters: the picture in 3 colours
kmeans = KMeans(n_clusters=3, random_state=42, n_init="auto")
kmeans.fit(data)
print(f"Coordinates of centroids: \n{kmeans.cluster_centers_}")

segmentedImage = kmeans.cluster_centers_[kmeans.labels_]  # for display: floats from 0 to 1
segmentedImage = segmentedImage / 255
imageInColor = segmentedImage.reshape(image.shape)
plt.figure()
plt.imshow(imageInColor)
plt.axis("off")

# %%
# Group the image by n clusters, by n colours
# -------------------------------------------
nColors = [10, 8, 6, 4, 2]
segmentedImages = []
for color in nColors:
    kmeans = KMeans(n_clusters=color, random_state=42, n_init="auto")
    kmeans.fit(data)
    segmentedImage = kmeans.cluster_centers_[kmeans.labels_]
    segmentedImage = segmentedImage.astype(int)
    segmentedImages.append(segmentedImage.reshape(image.shape))

plt.figure(figsize=(10, 5))
plt.subplot(2, 3, 1)  # 2 rows, 3 columns, first position
plt.imshow(image)
plt.title("Original")
plt.axis("off")
for i, (segmented, n) in enumerate(zip(segmentedImages, nColors), start=2):
    plt.subplot(2, 3, i)
    plt.imshow(segmented)
    plt.title(f"Color/cluster: {n}")
    plt.axis("off")
plt.tight_layout()

# %%
# Hierarchical clustering
# -----------------------
# Ten points, their 45 pairwise distances, and the single-linkage tree. pixclust's matrix is SciPy's,
# bit for bit, so SciPy's ``dendrogram`` and ``fcluster`` take it as it is.
data = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]])
distances = pdist(data)
print(distances.shape)  # 45 of them

tree = linkage(distances)
from scipy.cluster import hierarchy  # noqa: E402  (the reference, for the comparison only)

print("the same matrix as SciPy's:", np.array_equal(tree, hierarchy.linkage(distances)))
plt.figure()
dendrogram(tree)

# %%
# Cutting the tree at distance 3
# ------------------------------
by_distance = fcluster(tree, 3, criterion="distance")
print(by_distance)
# the tutorial's next step: the flat labels themselves, clustered by Ward's method
plt.figure()
cut_tree = dendrogram(linkage(by_distance.reshape(-1, 1), method="ward"))

# %%
# The points coloured by their flat cluster:
plt.figure()
plt.scatter(data[:, 0], data[:, 1], c=by_distance)

# %%
# Cutting the tree into 3 clusters
# --------------------------------
by_number_clusters = fcluster(tree, 3, criterion="maxclust")
print(by_number_clusters)
plt.figure()
cut_tree = dendrogram(linkage(by_number_clusters.reshape(-1, 1), method="ward"))
