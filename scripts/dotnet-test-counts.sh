# Sourced by scripts/test.sh and scripts/compose-test.sh (one way to count, for both "N passed, N failed" lines).
# add_dotnet_test_counts LOG STATUS: adds what `dotnet test` printed to LOG to $passed and $failed, and one failure for a
# test host that aborted, or for a non-zero STATUS that no failed test explains (a build or runner error).
add_dotnet_test_counts() {
  local log="$1" status="$2" log_passed=0 log_failed=0 f p
  while read -r f p; do
    log_passed=$((log_passed + p))
    log_failed=$((log_failed + f))
  done < <(sed -nE 's/.*(Passed|Failed)! +- +Failed: +([0-9]+), +Passed: +([0-9]+),.*/\2 \3/p' "$log")
  if grep -qE "Test Run Aborted|The active test run was aborted" "$log"; then
    echo "a test host aborted (see $log)"
    log_failed=$((log_failed + 1))
  fi
  if [ "$status" -ne 0 ] && [ "$log_failed" -eq 0 ]; then
    echo "dotnet test exited with $status (see $log)"
    log_failed=1
  fi
  passed=$((${passed:-0} + log_passed))
  failed=$((${failed:-0} + log_failed))
}
