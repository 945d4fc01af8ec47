#include "gateway/log/log.hpp"

#include <array>
#include <memory>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace tandem::log {

namespace {

// journald reads "<N>" at the start of a line as the syslog priority.
class journal_priority_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
                spdlog::memory_buf_t& dest) override {
        static constexpr std::array<const char*, 7> prefixes{"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
        const auto index = static_cast<std::size_t>(msg.level);
        const char* prefix = index < prefixes.size() ? prefixes[index] : "";
        dest.append(prefix, prefix + std::char_traits<char>::length(prefix));
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<journal_priority_flag>();
    }
};

}  // namespace

result<spdlog::level::level_enum> parse_level(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> levels{{
        {"trace", spdlog::level::trace},
        {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},
        {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},
        {"critical", spdlog::level::critical},
        {"off", spdlog::level::off},
    }};
    for (const auto& [text, level] : levels) {
        if (text == name) {
            return level;
        }
    }
    return make_error("unknown log level \"" + std::string(name) +
                      "\", expected trace, debug, info, warn, error, critical or off");
}

log_factory::log_factory(const config::logging_config& settings, std::string process_name)
    : settings_(settings),
      process_name_(std::move(process_name)),
      sink_(std::make_shared<spdlog::sinks::stderr_sink_mt>()) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (settings_.format == "journal") {
        formatter->add_flag<journal_priority_flag>('*').set_pattern("%*%n: %v");
    } else {
        formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e " + process_name_ + " %n %^%l%$: %v");
    }
    sink_->set_formatter(std::move(formatter));
}

logger_ptr log_factory::make(std::string_view module) const {
    auto logger = std::make_shared<spdlog::logger>(std::string(module), sink_);
    std::string level_name = settings_.level;
    if (auto found = settings_.modules.find(std::string(module)); found != settings_.modules.end()) {
        level_name = found->second;
    }
    // The config loader already validated levels; fall back to info if a
    // caller built settings by hand with a typo.
    auto level = parse_level(level_name);
    logger->set_level(level ? *level : spdlog::level::info);
    logger->flush_on(spdlog::level::warn);
    return logger;
}

}  // namespace tandem::log
