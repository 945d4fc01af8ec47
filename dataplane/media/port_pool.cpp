#include "dataplane/media/port_pool.hpp"

namespace tandem::media {

port_pool::port_pool(std::uint16_t first_port, std::uint16_t last_port)
    : first_(static_cast<std::uint16_t>((first_port + 1U) & ~1U)), last_(last_port) {
    for (std::uint32_t port = first_; port + 1 <= last_; port += 2) {
        free_.push_back(static_cast<std::uint16_t>(port));
    }
    in_use_.assign(free_.size(), false);
}

std::optional<std::uint16_t> port_pool::allocate() {
    if (free_.empty()) {
        return std::nullopt;
    }
    const auto port = free_.front();
    free_.pop_front();
    in_use_[(port - first_) / 2U] = true;
    return port;
}

bool port_pool::in_use(std::uint16_t port) const {
    if (port < first_ || port > last_ || (port - first_) % 2U != 0) {
        return false;
    }
    const auto index = static_cast<std::size_t>((port - first_) / 2U);
    return index < in_use_.size() && in_use_[index];
}

bool port_pool::release(std::uint16_t port) {
    if (!in_use(port)) {
        return false;
    }
    in_use_[(port - first_) / 2U] = false;
    free_.push_back(port);
    return true;
}

}  // namespace tandem::media
