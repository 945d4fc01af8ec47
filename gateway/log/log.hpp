#pragma once
// Logging for both processes (spdlog). One logger per module ("sip", "ng",
// "eal", ...), each with its own level from config.logging.modules, falling
// back to config.logging.level. Output goes to stderr: "text" with
// timestamps for a terminal, "journal" with syslog "<N>" priority prefixes
// and no timestamps, which journald turns into priorities.
//
// Loggers are created once at startup and passed to whoever logs; data-plane
// workers never log.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"

namespace tandem::log {

using logger_ptr = std::shared_ptr<spdlog::logger>;

class log_factory {
  public:
    // Validated config; process_name appears in text output.
    log_factory(const config::logging_config& settings, std::string process_name);
    // A logger named `module` at its configured level.
    [[nodiscard]] logger_ptr make(std::string_view module) const;

  private:
    config::logging_config settings_;
    std::string process_name_;
    spdlog::sink_ptr sink_;
};

// Parses "info", "debug", ...; error for anything else.
result<spdlog::level::level_enum> parse_level(std::string_view name);

}  // namespace tandem::log
