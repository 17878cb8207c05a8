# The demo unit with its 3D model (issue 15, docs/site-v1.md "Mesh obstacles"): `check` loads the
# model through assimp and runs on the site as written.
# ${test_command}: the sanitizer CI jobs run the plant label without building the command
# (PLANTTWIN_TEST_COMMAND, tests/CMakeLists.txt)
add_test(NAME plant_mesh_demo_check
         COMMAND ${test_command} check ${PROJECT_SOURCE_DIR}/scenarios/sites/demo-unit-mesh.yaml --report ${PROJECT_BINARY_DIR}/test-out/plant_mesh_demo_check)
set_tests_properties(plant_mesh_demo_check PROPERTIES LABELS plant)
