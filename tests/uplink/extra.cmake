# tls_test.cpp makes its certificates and its https receiver with OpenSSL directly
find_package(OpenSSL REQUIRED)
target_link_libraries(planttwin_uplink_tests PRIVATE OpenSSL::SSL OpenSSL::Crypto)
