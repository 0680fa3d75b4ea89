# `cmake --install build --prefix P`: qdf as a package for programs outside the tree
# (examples/my_net/): the static libraries, the headers and a CMake package config.
#   P/lib/libqdf_*.a                    every layer, and libqdf_api (the command line and the public API)
#   P/include/qdf/qdf.hpp               the public API: #include <qdf/qdf.hpp>
#   P/include/qdf/{dsl,engines,...}/    the headers it includes, as they are in the source tree
#   P/lib/cmake/qdf/                    qdfConfig.cmake, its version and the targets, qdf::qdf among them
#   P/bin/qdf                           the command-line tool
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QDF_LIBRARIES qdf_dsl qdf_engines qdf_manager qdf_sim qdf_onnx qdf_host qdf_examples qdf_api)
set(QDF_HEADER_DIR ${CMAKE_INSTALL_INCLUDEDIR}/qdf)
# The layers include each other's headers from the source tree's root ("manager/network.hpp");
# installed, that root is P/include/qdf.
foreach(lib IN LISTS QDF_LIBRARIES)
  set_property(TARGET ${lib} PROPERTY INTERFACE_INCLUDE_DIRECTORIES
               "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>" "$<INSTALL_INTERFACE:${QDF_HEADER_DIR}>")
endforeach()
# <qdf/qdf.hpp>: host/api/qdf/qdf.hpp in the tree, P/include/qdf/qdf.hpp installed.
set_property(TARGET qdf_api APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES
             "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/host/api>" "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
set_property(TARGET qdf_api PROPERTY EXPORT_NAME qdf)

install(TARGETS ${QDF_LIBRARIES} EXPORT qdfTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS qdf RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY dsl engines manager sim host DESTINATION ${QDF_HEADER_DIR}
        FILES_MATCHING PATTERN "*.hpp"
        PATTERN "host/api/qdf" EXCLUDE)
install(FILES host/api/qdf/qdf.hpp DESTINATION ${QDF_HEADER_DIR})

set(QDF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/qdf)
install(EXPORT qdfTargets NAMESPACE qdf:: DESTINATION ${QDF_CMAKE_DIR})
configure_package_config_file(host/cmake/qdfConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/qdfConfig.cmake
                              INSTALL_DESTINATION ${QDF_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/qdfConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/qdfConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/qdfConfigVersion.cmake
        DESTINATION ${QDF_CMAKE_DIR})
