// Subcommands of `planttwin` that live in their own files (DESIGN.md 4.1: a thin main per
// subcommand). Each file adds its CLI11 subcommands to the app and returns, for each, the function
// that runs it after parsing. main.cpp calls these only when the part is built
// (PLANTTWIN_HAS_CHECK / _LIVE / _VIEW, set by apps/CMakeLists.txt); otherwise it registers a
// placeholder that explains what is missing and exits 2.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace planttwin::cli {

constexpr int kExitPass = 0, kExitFail = 1, kExitBadInput = 2;

// --checkpoint-every D --checkpoint-dir DIR, the same for run, live and replay: both or neither, D
// a positive duration, DIR created when missing. false after saying why on stderr (exit 2).
bool checkpoint_args(const std::string& every, const std::string& dir, std::int64_t& every_us);

struct Subcommand {
  CLI::App* cli = nullptr;
  std::function<int()> run;  // called when `cli` was chosen on the command line
};

// apps/cmd_convert.cpp (planttwin_scenarios): `convert hanyang WALK --out DIR`
std::vector<Subcommand> add_convert_commands(CLI::App& app);
// apps/cmd_calibrate.cpp (planttwin_scenarios): `calibrate SCENARIO --out OFFSETS.yaml [--report DIR]`
std::vector<Subcommand> add_calibrate_commands(CLI::App& app);
// apps/cmd_check.cpp (planttwin_plant): `check SITE [--report DIR]`
std::vector<Subcommand> add_check_commands(CLI::App& app);
// apps/cmd_import.cpp (planttwin_import): `import DRAWING.dxf --map MAP.yaml --out SITE.yaml`
std::vector<Subcommand> add_import_commands(CLI::App& app);
// apps/cmd_live.cpp (planttwin_hil): `live SCENARIO ...`, `replay FILE ...`
std::vector<Subcommand> add_live_commands(CLI::App& app);
// apps/cmd_platform.cpp (planttwin_uplink): `platform --listen HOST:PORT --profile NAME ...`
std::vector<Subcommand> add_platform_commands(CLI::App& app);
// apps/cmd_view.cpp (planttwin_viewer): `view SCENARIO ...`, `drill SCENARIO ...`
std::vector<Subcommand> add_view_commands(CLI::App& app);
// apps/cmd_park.cpp (planttwin_park): `worker --nats URL`, `park add|list|play|report|export`
std::vector<Subcommand> add_park_commands(CLI::App& app);

}  // namespace planttwin::cli
