// value's copy/move/destroy, in a translation unit of their own: where g++ 12
// can inline them next to a result<value>, it reports a false
// -Wmaybe-uninitialized in std::variant's move constructor.

#include "gateway/ng/bencode.hpp"

namespace tandem::ng {

value::value(const value& other) = default;
value::value(value&& other) noexcept = default;
value& value::operator=(const value& other) = default;
value& value::operator=(value&& other) noexcept = default;
value::~value() = default;

}  // namespace tandem::ng
