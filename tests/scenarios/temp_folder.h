// A test fixture with its own temporary folder (named after the test, removed afterwards) and
// helpers to write and read files in it. Shared by the tests that build scenario files on disk.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace planttwin::test {

// A temporary folder named `prefix-name-PID` (emptied if it exists), removed with every other one
// made here when the test program ends, also after a failed ASSERT: for tests that are not
// TempFolderTest fixtures.
inline std::filesystem::path temp_dir_removed_at_exit(const std::string& prefix, const std::string& name) {
  struct Made {
    std::vector<std::filesystem::path> dirs;
    ~Made() {
      std::error_code ec;
      for (const std::filesystem::path& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Made made;
  std::filesystem::path d = std::filesystem::temp_directory_path() / (prefix + "-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  made.dirs.push_back(d);
  return d;
}

class TempFolderTest : public ::testing::Test {
 protected:
  explicit TempFolderTest(std::string prefix = "planttwin_") : prefix_(std::move(prefix)) {}
  std::filesystem::path dir;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          (prefix_ + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name, std::ios::binary) << text; }
  std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string prefix_;
};

}  // namespace planttwin::test
