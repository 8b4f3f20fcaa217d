// An allocator whose value-initialisation is default-initialisation: std::vector<T, DefaultInitAllocator<T>>(n)
// leaves trivial elements unwritten, for buffers that are written before they are read (a plain vector
// would first zero every page, a pass over memory that is then overwritten anyway).
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace pixclust::detail {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT: converting, as std::allocator's

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A vector whose resize(n) leaves its new values unset: for buffers that are written in full before
// they are read (by a parallel pass, so that its threads fault the fresh pages in, not one thread zeroing).
template <class T>
using RawVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace pixclust::detail
