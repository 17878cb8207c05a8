# The browser check (H-05): pages written by `planttwin run` opened in headless Chromium (Debian
# `chromium`), printed to PDF and dumped as DOM. Its own executable with the CTest label `browser`
# so `ctest -LE browser` leaves it out; it skips, saying so, when chromium is not installed.
add_executable(planttwin_report_browser_tests ${CMAKE_CURRENT_SOURCE_DIR}/report/browser/browser_test.cpp)
target_link_libraries(planttwin_report_browser_tests PRIVATE GTest::gtest GTest::gtest_main)
target_compile_definitions(planttwin_report_browser_tests PRIVATE
  PLANTTWIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PLANTTWIN_BINARY_DIR="${PROJECT_BINARY_DIR}" PLANTTWIN_COMMAND="${test_command}")
add_dependencies(planttwin_report_browser_tests planttwin)
gtest_discover_tests(planttwin_report_browser_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300 LABELS browser)
