// SPDX-License-Identifier: Apache-2.0
// GoogleTest main for every unit test executable: exit 77 when all tests that ran were skipped,
// so CTest (SKIP_RETURN_CODE 77) reports a skip instead of a pass.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    int rc = RUN_ALL_TESTS();
    const auto* unit = ::testing::UnitTest::GetInstance();
    if (rc == 0 && unit->test_to_run_count() > 0 && unit->skipped_test_count() == unit->test_to_run_count()) {
        return 77;
    }
    return rc;
}
