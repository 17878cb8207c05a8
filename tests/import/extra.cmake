# The demo plant imported from its drawing (issue 15): `check` passes on the site as written.
add_test(NAME import_demo_plant_check
         COMMAND planttwin check ${PROJECT_SOURCE_DIR}/scenarios/sites/demo-plant-imported.yaml --report ${PROJECT_BINARY_DIR}/test-out/import_demo_plant_check)
set_tests_properties(import_demo_plant_check PROPERTIES LABELS import)
