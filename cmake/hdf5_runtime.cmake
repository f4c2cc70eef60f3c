# libhdf5 is loaded when the first HDF5 file is read (src/io/hdf5.cpp), not
# when a program starts: Debian's libhdf5 pulls in libcurl, GnuTLS, Kerberos
# and LDAP, whose loading and start-up cost about 4 ms in every command. The
# code needs libhdf5's headers at build time and the name of the shared
# library it was built against at run time.
#
# deepnet_hdf5_runtime(TARGET): adds libhdf5's include directories to TARGET
# and defines DEEPNET_HDF5_LIBRARY, the library's soname (e.g.
# libhdf5_serial.so.103 on Debian 12), read from the library that FindHDF5 found.
include(${CMAKE_CURRENT_LIST_DIR}/soname.cmake)

function(deepnet_hdf5_runtime target)
  set(library "")
  foreach(candidate IN LISTS HDF5_C_LIBRARIES)
    if(candidate MATCHES "hdf5[^/]*\\.so" AND NOT candidate MATCHES "hdf5_hl")
      set(library "${candidate}")
      break()
    endif()
  endforeach()
  if(NOT library)
    message(FATAL_ERROR "deepnet: found no shared libhdf5 among HDF5_C_LIBRARIES (${HDF5_C_LIBRARIES})")
  endif()
  deepnet_soname("${library}" soname)
  target_include_directories(${target} PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
  target_compile_definitions(${target} PRIVATE ${HDF5_C_DEFINITIONS} DEEPNET_HDF5_LIBRARY="${soname}")
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
  message(STATUS "deepnet: libhdf5 is loaded on first use as ${soname}")
endfunction()
