#pragma once
// result<T>: a value or an error message, returned instead of throwing.
// Library code never logs; it hands the error to its caller, who decides.
// Used on the data plane too, so it neither allocates on success nor throws.

#include <string>
#include <utility>
#include <variant>

namespace tandem {

struct error {
    std::string message;
};

template <typename T>
class [[nodiscard]] result {
  public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    result(error failure) : state_(std::in_place_index<1>, std::move(failure)) {}

    [[nodiscard]] bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    [[nodiscard]] const error& failure() const { return std::get<1>(state_); }
    [[nodiscard]] const std::string& message() const { return failure().message; }

  private:
    std::variant<T, error> state_;
};

// status: a result with no value.
template <>
class [[nodiscard]] result<void> {
  public:
    result() = default;
    result(error failure) : failure_(std::move(failure)), ok_(false) {}

    [[nodiscard]] bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    [[nodiscard]] const error& failure() const { return failure_; }
    [[nodiscard]] const std::string& message() const { return failure_.message; }

  private:
    error failure_;
    bool ok_ = true;
};

using status = result<void>;

inline error make_error(std::string message) {
    return error{std::move(message)};
}

}  // namespace tandem
