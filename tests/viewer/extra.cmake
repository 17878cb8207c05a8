# Viewer entries of CTest that run the command under Xvfb (a real GLFW window with Mesa).
# The gtests in this folder spawn xvfb-run themselves and skip when it is missing; these entries
# exist only when xvfb-run is installed.
find_program(XVFB_RUN xvfb-run)
if(XVFB_RUN)
  add_test(NAME viewer_xvfb_screenshot_drill
           COMMAND ${XVFB_RUN} -a -s "-screen 0 1280x800x24"
                   $<TARGET_FILE:planttwin> view ${PROJECT_SOURCE_DIR}/scenarios/drills/drill-hot-work-gathering.yaml
                   --at 100s --screenshot ${PROJECT_BINARY_DIR}/test-out/viewer/drill-100s.png)
  add_test(NAME viewer_xvfb_frame_stats
           COMMAND ${XVFB_RUN} -a -s "-screen 0 1280x800x24"
                   $<TARGET_FILE:planttwin> view ${PROJECT_SOURCE_DIR}/scenarios/acceptance/h01-mixed-canonical.yaml
                   --at 100s --frame-stats 60)
endif()

# the drill scenarios' own expectations (their incidents happen as designed)
add_test(NAME drills_suite
         COMMAND planttwin run ${PROJECT_SOURCE_DIR}/scenarios/drills --report ${PROJECT_BINARY_DIR}/test-out/drills)

# recorded_view_test.cpp plays a live session's recording: it needs the hardware-in-loop part
if(TARGET planttwin_hil)
  target_link_libraries(planttwin_viewer_tests PRIVATE planttwin_hil)
  target_compile_definitions(planttwin_viewer_tests PRIVATE PLANTTWIN_TEST_HAS_HIL=1)
endif()

# a site with a mesh obstacle (issue 15): drawn without error, one frame to a PNG
if(XVFB_RUN)
  add_test(NAME viewer_xvfb_screenshot_mesh
           COMMAND ${XVFB_RUN} -a -s "-screen 0 1280x800x24"
                   $<TARGET_FILE:planttwin> view ${CMAKE_CURRENT_SOURCE_DIR}/viewer/mesh-unit.yaml
                   --at 20s --screenshot ${PROJECT_BINARY_DIR}/test-out/viewer/mesh-unit-20s.png)
  set_tests_properties(viewer_xvfb_screenshot_mesh PROPERTIES LABELS viewer)
endif()
