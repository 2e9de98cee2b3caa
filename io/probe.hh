// SPDX-License-Identifier: Apache-2.0
// Start-up probe: is io_uring usable here, and does the kernel support every opcode we use?
// The server refuses to start, saying which and why, rather than failing on the first backup.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <system_error>

struct io_uring_probe;

namespace tv::io {

/// One opcode the runtime depends on.
struct required_opcode {
    int opcode;
    const char* name;        // as in the kernel's enum, without IORING_OP_
    const char* since;       // first kernel release with it
    const char* used_for;
};

/// Every opcode the product submits.
std::span<const required_opcode> required_opcodes() noexcept;

/// What the probe looks at; the kernel's answer in production, a scripted one in tests.
class opcode_probe {
public:
    virtual ~opcode_probe() = default;
    /// Empty when a ring can be created; otherwise the error from io_uring_setup.
    virtual std::error_code ring_error() = 0;
    virtual bool supports(int opcode) = 0;
};

/// Asks the running kernel.
class kernel_opcode_probe final : public opcode_probe {
public:
    kernel_opcode_probe();
    ~kernel_opcode_probe() override;
    std::error_code ring_error() override { return _ring_error; }
    bool supports(int opcode) override;

private:
    std::error_code _ring_error;
    ::io_uring_probe* _probe = nullptr;
};

/// Empty when the runtime can work; otherwise the reason to refuse start-up, naming what is
/// missing, what it is for, and what to do about it.
std::optional<std::string> refusal_reason(opcode_probe& probe);

}  // namespace tv::io
