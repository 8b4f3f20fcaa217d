// Shared by the binding files: argument checks that never cast silently, the Ctrl-C check handed to
// the kernels, and thread-count handling.
#pragma once

#include <cstdint>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pixclust/cancel.hpp"

namespace pixclust::bindings {

namespace py = pybind11;

// The callable given to set_progress_hook (a strong reference), or null. Process-wide: the CLI sets it
// around one kernel call at a time. Never released at exit, when calling Py_DECREF is no longer safe.
inline PyObject*& progress_hook() {
  static PyObject* hook = nullptr;
  return hook;
}

// The check handed to long kernels. It is called from the thread that released the GIL (the kernel
// polls only from its calling thread), takes the GIL back briefly and asks Python whether a signal
// handler raised. When it did, the KeyboardInterrupt is already set as the Python error; the kernel
// throws pixclust::Cancelled and the translator in module.cpp leaves that error in place. A kernel that
// reports its progress has it passed to the progress hook, whose own error stops the kernel the same way.
inline CancelCheck python_cancel_check() {
  return [] {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) return true;
    PyObject* hook = progress_hook();
    const double share = kernel_progress();
    if (hook == nullptr || share < 0.0) return false;
    PyObject* result = PyObject_CallFunction(hook, "d", share);
    if (result == nullptr) return true;
    Py_DECREF(result);
    return false;
  };
}

// Runs f() with the GIL released and returns its result. Safe when f touches no Python object: the
// bindings hand it raw pointers into arrays that the calling frame keeps alive, and the cancel check
// takes the GIL back itself.
template <class F>
decltype(auto) without_gil(F&& f) {
  py::gil_scoped_release release;
  return std::forward<F>(f)();
}

// A new C-contiguous array whose memory comes from the C heap instead of numpy's allocator. numpy asks
// the kernel for transparent huge pages on every large array, and on virtual machines that hand freed
// memory back to the host a fresh huge page costs a host fault, several times an ordinary page's. The
// large outputs made here (a pixel per entry, written once in order) gain nothing from huge pages, and
// on ordinary pages a fit's time does not depend on the state of the machine's free memory
// (benchmarks/bench_kmeans.py).
template <class T>
py::array_t<T> heap_array(const std::vector<py::ssize_t>& shape) {
  std::size_t count = 1;
  for (const py::ssize_t s : shape) count *= static_cast<std::size_t>(s);
  void* p = std::malloc(count > 0 ? count * sizeof(T) : 1);
  if (p == nullptr) throw std::bad_alloc();
  py::capsule owner(p, [](void* q) { std::free(q); });
  return py::array_t<T>(shape, static_cast<T*>(p), owner);
}

// A C-contiguous array over a vector's own memory, moved in (no copy): a capsule owns the vector.
template <class T>
py::array_t<T> vector_array(std::vector<T>&& values, const std::vector<py::ssize_t>& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* q) { delete static_cast<std::vector<T>*>(q); });
  return py::array_t<T>(shape, owned->data(), owner);
}

inline std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// dtype equivalence, not identity: an unpickled array has its own (equal) dtype object. A byte-swapped
// dtype is not equivalent and is rejected (the Python layer converts it first).
template <class T>
bool has_dtype(const py::array& a) {
  return a.dtype().equal(py::dtype::of<T>());
}

// `a` must already have dtype T (checked here, never converted); returns a C-contiguous view, copying
// only when the input is strided.
template <class T>
py::array_t<T, py::array::c_style> as_contiguous(const py::array& a, const char* name) {
  if (!has_dtype<T>(a)) {
    throw py::type_error(std::string(name) + ": expected dtype " + py::str(py::dtype::of<T>()).cast<std::string>() +
                         ", got " + dtype_name(a));
  }
  auto arr = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  // A C-contiguous view at an odd byte offset (a view of a byte buffer) would reach the kernels as a
  // misaligned T*, undefined behaviour: such an array is copied into aligned memory.
  if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(T) != 0) {
    py::array_t<T, py::array::c_style> aligned(std::vector<py::ssize_t>(arr.shape(), arr.shape() + arr.ndim()));
    std::memcpy(aligned.mutable_data(), arr.data(), static_cast<std::size_t>(arr.nbytes()));
    return aligned;
  }
  return arr;
}

inline void require_ndim(const py::array& a, const char* name, py::ssize_t ndim) {
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                          std::to_string(a.ndim()) + "-D");
  }
}

// OpenMP starts every thread it is asked for (libgomp: per-thread data on the stack, a crash from about
// 10^5 threads), so an explicit count is bounded as the Python layer bounds it (pixclust._fit).
inline int check_threads(int n_threads) {
  if (n_threads < 0) throw py::value_error("n_threads: must be >= 0 (0 means the default), got " + std::to_string(n_threads));
  const int most = std::max(1024, static_cast<int>(std::thread::hardware_concurrency()));
  if (n_threads > most) {
    throw py::value_error("n_threads: must be at most " + std::to_string(most) + ", got " + std::to_string(n_threads));
  }
  return n_threads;
}

}  // namespace pixclust::bindings
