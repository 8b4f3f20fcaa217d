// The whole public C++ API of pixclust. Link the CMake target pixclust::core.
#pragma once

#include "pixclust/cancel.hpp"
#include "pixclust/config.hpp"
#include "pixclust/linkage.hpp"
#include "pixclust/pdist.hpp"
