# The demo unit with its 3D model (issue 15, docs/site-v1.md "Mesh obstacles"): `check` loads the
# model through assimp and runs on the site as written.
add_test(NAME plant_mesh_demo_check
         COMMAND planttwin check ${PROJECT_SOURCE_DIR}/scenarios/sites/demo-unit-mesh.yaml --report ${PROJECT_BINARY_DIR}/test-out/plant_mesh_demo_check)
set_tests_properties(plant_mesh_demo_check PROPERTIES LABELS plant)
