#include <gtest/gtest.h>

#include "gateway/log/log.hpp"

namespace tandem::log {
namespace {

TEST(log_levels, parse_known_and_reject_unknown) {
    EXPECT_EQ(*parse_level("debug"), spdlog::level::debug);
    EXPECT_EQ(*parse_level("warn"), spdlog::level::warn);
    EXPECT_EQ(*parse_level("off"), spdlog::level::off);
    auto bad = parse_level("verbose");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.message(),
              "unknown log level \"verbose\", expected trace, debug, info, warn, error, critical or off");
}

TEST(log_factory, module_levels_override_the_default) {
    config::logging_config settings;
    settings.level = "warn";
    settings.modules["sip"] = "trace";
    const log_factory factory(settings, "unit");
    EXPECT_EQ(factory.make("sip")->level(), spdlog::level::trace);
    EXPECT_EQ(factory.make("ng")->level(), spdlog::level::warn);
}

TEST(log_factory, journal_format_prefixes_priorities) {
    config::logging_config settings;
    settings.format = "journal";
    const log_factory factory(settings, "unit");
    testing::internal::CaptureStderr();
    auto logger = factory.make("eal");
    logger->error("port down");
    logger->info("port up");
    logger->flush();
    const auto output = testing::internal::GetCapturedStderr();
    EXPECT_NE(output.find("<3>eal: port down\n"), std::string::npos) << output;
    EXPECT_NE(output.find("<6>eal: port up\n"), std::string::npos) << output;
}

}  // namespace
}  // namespace tandem::log
