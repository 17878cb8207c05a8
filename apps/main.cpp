// planttwin: the command. A thin main per subcommand (DESIGN.md section 4.1).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"

#ifndef PLANTTWIN_VERSION
#define PLANTTWIN_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;
using namespace planttwin;

namespace {

constexpr int kExitPass = 0, kExitFail = 1, kExitBadInput = 2;

// Files named on the command line; a directory stands for every *.yaml / *.yml in it, by name.
bool collect(const std::vector<std::string>& args, std::vector<std::string>& files) {
  for (const std::string& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : fs::directory_iterator(a, ec)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) in_dir.push_back(e.path().string());
      }
      if (in_dir.empty()) {
        std::cerr << a << ": no scenario files (*.yaml) in this folder\n";
        return false;
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(a, ec)) {
      files.push_back(a);
    } else {
      std::cerr << a << ": no such file or folder\n";
      return false;
    }
  }
  return true;
}

int cmd_run(const std::vector<std::string>& args, const std::string& report_dir, int threads) {
  std::vector<std::string> files;
  if (!collect(args, files)) return kExitBadInput;
  // load everything first: bad input stops the run before anything runs
  std::vector<Scenario> scenarios(files.size());
  bool bad = false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto err = load_scenario_file(files[i], scenarios[i])) {
      std::cerr << err->to_string() << "\n";
      bad = true;
    }
  }
  if (bad) return kExitBadInput;

  // scenarios run in parallel on up to `threads` workers; each run is single-threaded and its
  // result lands at its own index, so nothing depends on the thread count
  std::vector<RunResult> results(files.size());
  std::vector<std::string> errors(files.size());
  std::vector<char> ok(files.size(), 0);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) ok[i] = run_scenario(scenarios[i], RunOptions{threads}, results[i], errors[i]);
  };
  std::vector<std::thread> pool;
  const int n = std::clamp(threads, 1, static_cast<int>(files.size()));
  for (int k = 1; k < n; ++k) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < files.size(); ++i)
    if (!ok[i]) {
      std::cerr << errors[i] << "\n";
      bad = true;
    }
  if (bad) return kExitBadInput;

  std::vector<SummaryRow> rows;
  bool all = true;
  for (size_t i = 0; i < files.size(); ++i) {
    const Scenario& sc = scenarios[i];
    const RunResult& r = results[i];
    SummaryRow row;
    row.file = files[i];
    row.scenario = sc.name;
    row.requirements = sc.requirements;
    row.passed = r.passed;
    row.expectations_total = static_cast<int>(r.expectations.size());
    for (const auto& e : r.expectations) row.expectations_passed += e.passed;
    row.hash = r.hash;
    row.outcomes = requirement_outcomes(sc, r);
    for (const Alarm& a : r.alarms)
      if (!a.code.empty()) ++row.codes[a.code];
    row.report_dir = files.size() == 1 ? report_dir : (fs::path(report_dir) / fs::path(files[i]).stem()).string();
    all = all && r.passed;
    if (!report_dir.empty()) {
      std::string err;
      if (!write_text_file((fs::path(row.report_dir) / "report.json").string(), report_json(sc, r).dump(2) + "\n", err) ||
          !write_text_file((fs::path(row.report_dir) / "report.md").string(), report_markdown(sc, r), err)) {
        std::cerr << err << "\n";
        return kExitBadInput;
      }
      // one printable permit per permit (SO-04)
      for (const PermitRecord& p : r.permits)
        if (!write_text_file((fs::path(row.report_dir) / "permits" / (p.id + ".html")).string(), permit_html(sc, r, p), err)) {
          std::cerr << err << "\n";
          return kExitBadInput;
        }
    }
    for (const auto& e : r.expectations)
      if (!e.passed) std::cerr << sc.file << ": expectation #" << e.index + 1 << " failed: " << e.text << "\n    " << e.detail << "\n";
    rows.push_back(std::move(row));
  }
  if (!report_dir.empty() && files.size() > 1) {
    std::string err;
    if (!write_text_file((fs::path(report_dir) / "summary.json").string(), summary_json(rows).dump(2) + "\n", err) ||
        !write_text_file((fs::path(report_dir) / "summary.md").string(), summary_markdown(rows), err)) {
      std::cerr << err << "\n";
      return kExitBadInput;
    }
  }
  std::cout << summary_table(rows);
  if (!report_dir.empty()) std::cout << "Report: " << (files.size() > 1 ? (fs::path(report_dir) / "summary.md").string() : (fs::path(report_dir) / "report.md").string()) << "\n";
  return all ? kExitPass : kExitFail;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"planttwin: deterministic safety-rules engine for hazardous-chemical plants (personnel positioning and special work)"};
  app.set_version_flag("--version", std::string("planttwin ") + PLANTTWIN_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> run_args;
  std::string report_dir;
  int threads = 1;
  CLI::App* run = app.add_subcommand("run", "Run scenarios headless and check their expectations (exit 0 pass, 1 fail, 2 bad input)");
  run->add_option("scenarios", run_args, "Scenario files or folders of scenarios")->required();
  run->add_option("--report", report_dir, "Write report.json and report.md here (one sub-folder per scenario when several)");
  run->add_option("--threads", threads, "Worker threads; results never depend on it")->check(CLI::Range(1, 256));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  if (*run) return cmd_run(run_args, report_dir, threads);
  return kExitBadInput;
}
