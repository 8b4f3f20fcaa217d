// Cooperative cancellation: long kernels poll a caller-supplied check now and then (from the calling
// thread, between blocks of work) and stop with `Cancelled` when it returns true. The Python binding
// passes a check that looks for Ctrl-C (and feeds the CLI's progress bar); C++ callers may pass a
// deadline or nothing.
#pragma once

#include <functional>
#include <stdexcept>

namespace pixclust {

// A caller-supplied check, polled by long kernels: return true to stop them with `Cancelled`. An empty
// function (the default) means no check.
using CancelCheck = std::function<bool()>;

// Thrown by a kernel when its `CancelCheck` returns true.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("pixclust: cancelled") {}
};

// The share of its work (0 to 1) that the kernel running on the calling thread had done at its latest
// report, or -1 when it reports none (the k-means, colour and distance kernels; no kernel running). A
// CancelCheck may read it to show progress: the linkage kernels report as they merge. It grows, but for
// a kernel that starts over: single linkage of a matrix whose heights tie runs SLINK to the end, then
// Prim's from 0.
double kernel_progress() noexcept;

}  // namespace pixclust
