// Reports: report.json (machine-readable, scenario-v1 "Run result") and report.md (for
// inspectors, Chinese and English), and the summary of a multi-scenario run.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin {

// Bilingual title of a requirement ID ("PL-02" -> "人员聚集风险报警 Gathering risk alarm"); "" if unknown.
std::string requirement_title(const std::string& id);

// Per requirement ID named by the scenario or its expectations: passed / failed / untested.
struct RequirementOutcome {
  std::string id;
  std::string status;  // "passed", "failed", "untested" (named, but no expectation carries it)
  std::vector<int> expectations;
};
std::vector<RequirementOutcome> requirement_outcomes(const Scenario& sc, const RunResult& r);

nlohmann::ordered_json report_json(const Scenario& sc, const RunResult& r);
std::string report_markdown(const Scenario& sc, const RunResult& r);

struct SummaryRow {
  std::string file, scenario, report_dir;
  std::vector<std::string> requirements;
  bool passed = false;
  int expectations_passed = 0, expectations_total = 0;
  std::string hash;
  std::vector<RequirementOutcome> outcomes;
  std::map<std::string, int> codes;  // AQ 3064.2 code -> alarms raised with it
};
// A printable permit (SO-04) in the layout of GB 30871-2022 App. A, Chinese and English: its
// fields, gas analyses, approvals, history, alarms and signature lines. HTML.
std::string permit_html(const Scenario& sc, const RunResult& r, const PermitRecord& p);

nlohmann::ordered_json summary_json(const std::vector<SummaryRow>& rows);
std::string summary_markdown(const std::vector<SummaryRow>& rows);
// The console table: scenario, requirement IDs, pass/fail.
std::string summary_table(const std::vector<SummaryRow>& rows);

// Writes text to a file, creating folders; false with a message on failure.
bool write_text_file(const std::string& path, const std::string& text, std::string& error);

}  // namespace planttwin
