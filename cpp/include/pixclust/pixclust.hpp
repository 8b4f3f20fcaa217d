// The whole public C++ API of pixclust. Link the CMake target pixclust::core.
#pragma once

#include "pixclust/cancel.hpp"
#include "pixclust/color_index.hpp"
#include "pixclust/color_space.hpp"
#include "pixclust/config.hpp"
#include "pixclust/dither.hpp"
#include "pixclust/kmeans.hpp"
#include "pixclust/linkage.hpp"
#include "pixclust/linkage_vector.hpp"
#include "pixclust/pdist.hpp"
