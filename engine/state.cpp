#include "engine/state.h"

#include <algorithm>

namespace planttwin {

bool Input::operator==(const Input& o) const {
  if (t != o.t || seq != o.seq || body.index() != o.body.index()) return false;
  return std::visit(
      [&](const auto& a) -> bool {
        using T = std::decay_t<decltype(a)>;
        const T& b = std::get<T>(o.body);
        if constexpr (std::is_same_v<T, std::shared_ptr<const AlarmAction>> || std::is_same_v<T, std::shared_ptr<const PermitCommand>>) {
          if (!a || !b) return !a && !b;
          return *a == *b;
        } else {
          return a == b;
        }
      },
      body);
}

bool InputQueue::operator==(const InputQueue& o) const {
  if (unsorted != o.unsorted || next_seq != o.next_seq) return false;
  if (pending.size() - head != o.pending.size() - o.head) return false;
  return std::equal(pending.begin() + static_cast<long>(head), pending.end(), o.pending.begin() + static_cast<long>(o.head));
}

bool AckWatch::operator==(const AckWatch& o) const {
  if (unack_of != o.unack_of) return false;
  if (watch.size() - head != o.watch.size() - o.head) return false;
  return std::equal(watch.begin() + static_cast<long>(head), watch.end(), o.watch.begin() + static_cast<long>(o.head));
}

}  // namespace planttwin
