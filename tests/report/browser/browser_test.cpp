// The HTML reports in a real browser (H-05): `planttwin run` writes pages for acceptance scenarios
// (a truth run with alarms, special work), a noisy run with truth and a run with hundreds of alarms
// on one floor; headless Chromium prints the summary and a scenario page to PDF and dumps the noisy
// and the crowded run's pages as DOM. The PDFs must exist, be PDFs with a page per section, and the
// DOM must still hold every chart and alarm marker, or past 300 alarms on a floor the merged
// markers and the map cells counting every alarm (the SVG parsed as SVG). Skipped, saying so, when
// chromium is not installed. CTest label `browser`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(p)) return p;
  return "";
}

// one headless Chromium, its own profile folder, bounded in time; returns the exit status
int chromium(const std::string& exe, const fs::path& profile, const std::string& what, const fs::path& page, const fs::path& log,
             const fs::path& stdout_to = {}) {
  const std::string cmd = "timeout 120 " + exe + " --headless --no-sandbox --disable-gpu --no-first-run --no-pdf-header-footer --user-data-dir=" +
                          profile.string() + " " + what + " file://" + fs::absolute(page).string() + " > " +
                          (stdout_to.empty() ? std::string("/dev/null") : stdout_to.string()) + " 2> " + log.string();
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(ReportBrowser, H05_PagesPrintToPdfAndKeepTheirChartsInChromium) {
  const std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`): the browser check of report.html is skipped";
  const fs::path out = fs::path(PLANTTWIN_BINARY_DIR) / "test-out" / "report-browser";
  fs::remove_all(out);
  fs::create_directories(out);
  // a noisy run with truth: the accuracy, delay and missed/false charts have something to draw
  std::ofstream(out / "noisy.yaml") << R"(scenario: noisy-crossings
duration: 240s
seed: 5
positioning: {mode: truth, noise_sigma: 0.6}
site:
  site: inline-test
  zones:
    - {id: Z, kind: high_risk, risk: red, polygon: [[0, 0], [20, 0], [20, 20], [0, 20]], authorized: {roles: [operator]}}
people:
  - {id: V1, category: visitor, tag: T1, at: [-15, 5]}
  - {id: V2, category: visitor, tag: T2, at: [-15, 10]}
script:
  - {t: 0s, who: V1, go_to: [10, 5], speed: 1.2}
  - {t: 30s, who: V2, go_to: [10, 10], speed: 1.2}
expect:
  - {accuracy: {cdf68_max: 1.5}, req: H-06}
)";
  // 200 visitors crossing into a red zone: a crossing and an unacknowledged alarm each, about 400
  // on one floor, past the map's kMapMarkerDetail (300): merged markers, hover text per map cell
  {
    std::ofstream many(out / "many.yaml");
    many << "scenario: many-crossings\nduration: 120s\nseed: 3\nsite:\n  site: inline-test\n  zones:\n"
            "    - {id: Z, kind: high_risk, risk: red, polygon: [[0, 0], [60, 0], [60, 60], [0, 60]], authorized: {roles: [operator]}}\n"
            "people:\n";
    for (int i = 0; i < 200; ++i)
      many << "  - {id: V" << i << ", category: visitor, tag: T" << i << ", at: [" << -5 - i % 5 << ", " << 1 + i / 5 << "]}\n";
    many << "script:\n";
    for (int i = 0; i < 200; ++i) many << "  - {t: " << i % 20 << "s, who: V" << i << ", go_to: [" << 10 + i % 50 << ", " << 1 + i / 5 << "], speed: 1.2}\n";
  }
  const std::string src = PLANTTWIN_SOURCE_DIR;
  const fs::path rep = out / "report";
  const std::string run = std::string(PLANTTWIN_COMMAND " run ") + src + "/scenarios/acceptance/pl05-crossing-tank-farm.yaml " + src +
                          "/scenarios/acceptance/so04-lifecycle.yaml " + (out / "noisy.yaml").string() + " " + (out / "many.yaml").string() + " --report " + rep.string() + " > " +
                          (out / "run.log").string() + " 2>&1";
  const int rc = std::system(run.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << read(out / "run.log");
  const fs::path summary = rep / "summary.html", permits = rep / "so04-lifecycle" / "report.html", noisy = rep / "noisy" / "report.html",
                 many = rep / "many" / "report.html";
  ASSERT_TRUE(fs::exists(summary) && fs::exists(permits) && fs::exists(noisy) && fs::exists(many));

  // three browsers at once (each waits mostly on its own start-up)
  auto pdf_summary = std::async(std::launch::async, chromium, exe, out / "p1", "--print-to-pdf=" + (out / "summary.pdf").string(), summary,
                                out / "c1.log", fs::path{});
  auto pdf_report = std::async(std::launch::async, chromium, exe, out / "p2", "--print-to-pdf=" + (out / "so04.pdf").string(), permits,
                               out / "c2.log", fs::path{});
  auto dom = std::async(std::launch::async, chromium, exe, out / "p3", std::string("--dump-dom"), noisy, out / "c3.log", out / "noisy.dom.html");
  EXPECT_EQ(pdf_summary.get(), 0) << read(out / "c1.log");
  EXPECT_EQ(pdf_report.get(), 0) << read(out / "c2.log");
  EXPECT_EQ(dom.get(), 0) << read(out / "c3.log");
  // then the crowded page (a fourth browser at once would only wait for a core)
  EXPECT_EQ(chromium(exe, out / "p4", "--dump-dom", many, out / "c4.log", out / "many.dom.html"), 0) << read(out / "c4.log");

  // the PDFs: real PDFs; the scenario page starts each of its 7 sections on a new A4 page
  for (const char* name : {"summary.pdf", "so04.pdf"}) {
    const std::string pdf = read(out / name);
    ASSERT_GT(pdf.size(), 5000u) << name;
    EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u) << name;
    EXPECT_NE(pdf.find("%%EOF"), std::string::npos) << name;
  }
  const std::string so04 = read(out / "so04.pdf");
  const size_t pages = count(so04, "/Type /Page\n") + count(so04, "/Type /Page ") + count(so04, "/Type /Page>") + count(so04, "/Type /Page/");
  EXPECT_GE(pages, 7u) << "one page or more per section";
  // A4 media box (595 x 842 pt)
  EXPECT_NE(so04.find("/MediaBox [0 0 594.95996 841.91998]"), std::string::npos);

  // the DOM after parsing: every chart still there as SVG, with its marks
  const std::string file = read(noisy), dom_html = read(out / "noisy.dom.html");
  ASSERT_FALSE(dom_html.empty());
  for (const char* kind : {"map", "timeline", "headcount", "accuracy-cdf", "alarm-delay", "alarm-quality", "permits-gantt"})
    EXPECT_NE(dom_html.find(std::string("<svg class=\"chart\" data-chart=\"") + kind + "\""), std::string::npos) << kind;
  EXPECT_EQ(count(dom_html, "<svg "), count(file, "<svg "));
  EXPECT_EQ(count(dom_html, "</svg>"), count(file, "</svg>"));
  EXPECT_GE(count(file, "class=\"alarm-marker\""), 1u);
  EXPECT_EQ(count(dom_html, "class=\"alarm-marker\""), count(file, "class=\"alarm-marker\""));
  EXPECT_EQ(count(dom_html, "<polyline"), count(file, "<polyline"));
  EXPECT_NE(dom_html.find("class=\"cdf\""), std::string::npos);

  // the crowded page: no marker per alarm but merged markers per level, and map cells whose counts
  // add up to every alarm on the floor, in the file and after parsing
  const std::string crowded = read(many), crowded_dom = read(out / "many.dom.html");
  ASSERT_FALSE(crowded_dom.empty());
  const std::string note = "Many alarms on this floor (";
  const size_t at = crowded.find(note);
  ASSERT_NE(at, std::string::npos);
  const size_t alarms = std::stoul(crowded.substr(at + note.size()));
  EXPECT_GT(alarms, 300u);
  EXPECT_EQ(count(crowded, "class=\"alarm-marker\""), 0u);
  EXPECT_GE(count(crowded, "class=\"alarm-markers-merged\""), 1u);
  EXPECT_EQ(count(crowded_dom, "class=\"alarm-markers-merged\""), count(crowded, "class=\"alarm-markers-merged\""));
  EXPECT_GE(count(crowded, "class=\"alarm-cell\""), 2u);
  EXPECT_EQ(count(crowded_dom, "class=\"alarm-cell\""), count(crowded, "class=\"alarm-cell\""));
  for (const std::string* page : {&crowded, &crowded_dom}) {
    const std::string tag = "class=\"alarm-cell\" data-alarms=\"";
    size_t sum = 0;
    for (size_t k = page->find(tag); k != std::string::npos; k = page->find(tag, k + tag.size())) sum += std::stoul(page->substr(k + tag.size()));
    EXPECT_EQ(sum, alarms) << (page == &crowded ? "file" : "DOM");
  }
  EXPECT_NE(crowded_dom.find("<svg class=\"chart\" data-chart=\"map\""), std::string::npos);
}

}  // namespace
