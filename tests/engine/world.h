// A small test world: a site built in code, people with tags, and a script of fixes fed to the
// engine second by second. Shared by the engine rule tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace planttwin::test {

inline Polygon rect(double x0, double y0, double x1, double y1) {
  Polygon p;
  p.pts = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
  p.finalize();
  return p;
}

inline Micros s(double seconds) { return from_seconds(seconds); }

class World {
 public:
  World() {
    site.name = "test";
    site.floors = {{"1", -1, 4}, {"2", 4, 8}};
  }

  Zone& zone(const std::string& id, Polygon poly) {
    Zone z;
    z.id = id;
    z.polygon = std::move(poly);
    site.zones.push_back(std::move(z));
    return site.zones.back();
  }

  void person(const std::string& id, double x, double y, Category cat = Category::employee,
              std::vector<std::string> roles = {}, bool tagged = true, const std::string& floor = "1") {
    PersonSetup p;
    p.id = id;
    p.category = cat;
    p.roles = std::move(roles);
    p.tag = tagged ? "T" + id : "";
    setup.people.push_back(p);
    pos[id] = {x, y};
    floor_of[id] = floor;
    reporting[id] = tagged;
  }

  void start() {
    setup.site = std::make_shared<const Site>(site);
    engine = std::make_unique<Engine>(setup);
  }

  // Every tagged, reporting person sends a fix at each whole second in (now, until], then the
  // engine advances.
  void run_to(double until_s) {
    if (!engine) start();
    for (; next_fix <= until_s + 1e-9; next_fix += 1) {
      const Micros t = s(next_fix);
      for (const auto& [id, on] : reporting) {
        if (!on) continue;
        fix_now(id, t);
      }
      engine->advance_to(t);
    }
  }

  void fix_now(const std::string& id, Micros t) {
    FixInput f;
    f.tag = engine->tag_index("T" + id);
    f.x = pos[id].x;
    f.y = pos[id].y;
    f.floor = engine->floor_index(floor_of[id]);
    f.z = floor_of[id] == "2" ? 5.2 : 1.2;
    if (z_of.count(id)) f.z = z_of[id];
    engine->submit({t, 0, f});
  }

  void move(const std::string& id, double x, double y) { pos[id] = {x, y}; }
  void input(double t, decltype(Input::body) body) { engine->submit({s(t), 0, std::move(body)}); }
  void action(double t, AlarmAction::Kind kind, std::optional<std::string> type, const std::string& by = "OP",
              std::optional<std::string> who = std::nullopt) {
    AlarmAction a;
    a.kind = kind;
    if (type) {
      AlarmType parsed{};
      EXPECT_TRUE(parse_alarm_type(*type, parsed)) << *type;
      a.type = parsed;
    }
    a.by = by;
    a.who = std::move(who);
    a.note = "note";
    input(t, std::make_shared<const AlarmAction>(a));
  }

  std::vector<const Alarm*> of_type(const std::string& type) const {
    std::vector<const Alarm*> v;
    for (const Alarm& a : engine->alarms())
      if (to_string(a.type) == type) v.push_back(&a);
    return v;
  }
  // times of events of one kind on alarms of one type, in seconds
  std::vector<double> event_times(const std::string& type, AlarmEventKind kind) const {
    std::vector<double> v;
    for (const Alarm& a : engine->alarms())
      if (to_string(a.type) == type)
        for (const AlarmEvent& e : a.events)
          if (e.kind == kind) v.push_back(to_seconds(e.t));
    return v;
  }
  std::vector<double> raised(const std::string& type) const { return event_times(type, AlarmEventKind::raised); }

  Site site;
  EngineSetup setup;
  std::unique_ptr<Engine> engine;
  std::map<std::string, Vec2> pos;
  std::map<std::string, std::string> floor_of;
  std::map<std::string, double> z_of;
  std::map<std::string, bool> reporting;
  double next_fix = 0;
};

}  // namespace planttwin::test
