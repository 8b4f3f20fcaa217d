# Installs headers, the static library and a relocatable CMake package so that another project can
#   find_package(pixclust CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE pixclust::core)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PIXCLUST_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/pixclust"
    CACHE STRING "Where pixclustConfig.cmake is installed, relative to the prefix")

install(TARGETS pixclust_core EXPORT pixclustTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/cpp/include/pixclust
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT pixclustTargets NAMESPACE pixclust:: DESTINATION ${PIXCLUST_INSTALL_CMAKEDIR})

# The config only asks for OpenMP when this copy was built with it.
set(PIXCLUST_CONFIG_NEEDS_OPENMP ${PIXCLUST_HAVE_OPENMP})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pixclustConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/pixclustConfig.cmake
                              INSTALL_DESTINATION ${PIXCLUST_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pixclustConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pixclustConfig.cmake ${PROJECT_BINARY_DIR}/pixclustConfigVersion.cmake
        DESTINATION ${PIXCLUST_INSTALL_CMAKEDIR})
