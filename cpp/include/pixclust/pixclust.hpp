// The whole public C++ API of pixclust. Link the CMake target pixclust::core.
#pragma once

#include "pixclust/cancel.hpp"
#include "pixclust/config.hpp"
#include "pixclust/dither.hpp"
#include "pixclust/pdist.hpp"
