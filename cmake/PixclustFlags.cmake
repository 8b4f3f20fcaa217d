# Compiler settings shared by every pixclust target. Applied per target, never through global flags, so
# that a project that add_subdirectory()s pixclust keeps its own.

# Warnings are for our own sources only; they do not travel to consumers.
function(pixclust_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${PIXCLUST_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow
                                             $<$<BOOL:${PIXCLUST_WERROR}>:-Werror>)
  endif()
endfunction()

# Results must match SciPy/scikit-learn to the last bit where the arithmetic is the same: no fused
# multiply-add contraction, no fast-math, no -march.
function(pixclust_set_exact_fp target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang|AppleClang|IntelLLVM")
    target_compile_options(${target} PRIVATE -ffp-contract=off -fno-fast-math)
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /fp:precise)
  endif()
endfunction()

# ASan+UBSan for the test configuration. Compile flags stay private; the link flag is needed by every
# executable that links a sanitized library, so it is a build-interface usage requirement only (an
# installed pixclust::core never carries it).
function(pixclust_set_sanitizers target)
  if(PIXCLUST_SANITIZE AND NOT MSVC)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all
                                             -fno-omit-frame-pointer)
    get_target_property(_type ${target} TYPE)
    if(_type STREQUAL "STATIC_LIBRARY")
      target_link_options(${target} INTERFACE $<BUILD_INTERFACE:-fsanitize=address,undefined>)
    else()
      target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
  endif()
endfunction()
