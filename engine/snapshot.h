// What the engine shows of itself at one instant, for viewers and live clients (DESIGN.md 2: the
// viewer reads snapshots only, so a recorded run and a live one look the same to it). Plain data,
// copied out: holding a snapshot never touches the engine.
//
// Thread-safety: plain data copied out of an engine; safe to hand to another thread (the viewer).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "engine/alarm.h"
#include "engine/geometry.h"
#include "engine/permits.h"
#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

struct Snapshot {
  Micros t = 0;

  struct Person {
    std::string id, name, tag;  // tag "" when untagged
    Category category = Category::employee;
    bool has_fix = false;       // false before the first fix
    Vec2 pos;                   // the latest fix (what the engine believes)
    double z = 0;
    std::string floor;
    Micros last_fix = 0;
    double battery = 1;
    bool offline = false;       // tag_offline alarm active
    std::vector<std::string> cameras;  // cameras that see the person now (PL-13: follow a person)
  };
  std::vector<Person> people;  // in id order

  // Alarms not yet closed (raised, acknowledged or handled, active or cleared), in id order.
  std::vector<Alarm> open_alarms;

  struct Gathering {
    std::string alarm_id;
  AlarmLevel level = AlarmLevel::none;  // yellow / orange / red
    std::vector<std::string> members;
    Vec2 center;
    double radius = 0;
    std::string floor;
  };
  std::vector<Gathering> gatherings;  // active gathering alarms, from the latest step

  struct ZoneState {
    std::string id;
    bool active = true;  // schedule
    int count = 0;
    std::array<int, kCategoryCount> by_category{};
  };
  std::vector<ZoneState> zones;  // site order

  std::vector<PermitRecord> permits;  // every reservation and permit with its status
};

}  // namespace planttwin
