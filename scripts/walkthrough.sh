#!/usr/bin/env bash
# The README's walk-through: from tokens to a grant, with curl (and jq), against a running service
# started with ZONECASE_ALLOW_TIME_TRAVEL=1 (the clock is moved so that the notice can end).
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
ZC=${ZC:-.venv/bin/zonecase}

# 1. Tokens (signed with ZONECASE_JWT_SECRET, or the development secret under ./data)
APPLICANT=$($ZC token --role applicant --sub u-ssl --org songshan-lake --name "Songshan Lake IT office")
BUREAU=$($ZC token --role bureau --sub u-bureau --name "Bureau officer")
LEADING=$($ZC token --role leading_group --sub u-lg)
E1=$($ZC token --role expert --sub u-exp1); E2=$($ZC token --role expert --sub u-exp2); E3=$($ZC token --role expert --sub u-exp3)
auth() { echo "Authorization: Bearer $1"; }

# 2. Time travel (demo only): the application is filed on 2021-07-15
curl -sf -X PUT "$BASE/admin/clock" -H "$(auth "$BUREAU")" -H 'Content-Type: application/json' \
  -d '{"now": "2021-07-15T10:00:00+08:00"}' >/dev/null

# 3. The call for applications (public; the first batch is imported on first start), the creation plan
#    uploaded, then the application (first batch: Songshan Lake submits only items 3 and 4, §5)
curl -sf "$BASE/calls/2021-first" | jq -c '{id, members: [.members[].org], exempt_materials}'
printf '%%PDF-1.4 creation plan\n' > /tmp/plan.pdf
PLAN=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$APPLICANT")" -F file=@/tmp/plan.pdf | jq -r .sha256)
ZONE=$(curl -sf -X POST "$BASE/zones" -H "$(auth "$APPLICANT")" -H 'Content-Type: application/json' -H 'Idempotency-Key: apply-1' -d '{
  "name": "松山湖软件和信息技术服务业集聚区", "area_type": "park", "sites": [{"name": "core area"}], "batch": "2021-first",
  "materials": [{"kind": "creation_plan", "sha256": "'"$PLAN"'", "name": "plan.pdf"}],
  "self_assessment": {"statistics": {"revenue": 12000000000, "platforms": 4, "local_funds": 60000000, "city_funds": 100000000}},
  "plan": {"base_year": 2020, "matching_ratio": 0.6, "targets": [{"year": 2023, "revenue": 25000000000, "firms_over_1bn": 1, "employees": 45000,
           "new_firms_over_20m": 8, "new_platforms": 3}]}}' | jq -r .id)
echo "zone $ZONE applied"

post() { curl -sf -X POST "$BASE/zones/$ZONE/$1" -H "$(auth "$2")" -H 'Content-Type: application/json' -d "$3"; }

# 4. Formal review (the approval to start opens the creation period), the assessment application and its
#    acceptance, panel, scores, conclusion
printf '%%PDF-1.4 approval to start\n' > /tmp/approval.pdf
APPROVAL=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$BUREAU")" -F file=@/tmp/approval.pdf | jq -r .sha256)
post formal-review "$BUREAU" '{"outcome": "accepted", "reasons": "材料齐全，同意启动创建。", "approval": {"sha256": "'"$APPROVAL"'", "name": "approval.pdf"}}' \
  | jq -c '{status, creation_period}'
printf '%%PDF-1.4 assessment application\n' > /tmp/assessment.pdf
APPLICATION=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$APPLICANT")" -F file=@/tmp/assessment.pdf | jq -r .sha256)
post assessment-request "$APPLICANT" '{"summary": "创建目标已达成，申请评估。", "statistics": {"revenue": 24000000000, "internet_revenue": 3000000000},
  "documents": [{"sha256": "'"$APPLICATION"'", "name": "assessment.pdf"}]}' | jq -r .status
post assessment-request/decision "$BUREAU" '{"outcome": "accepted", "reasons": "材料齐全，予以受理。"}' | jq -r .status
post assessment/panel "$BUREAU" '{"experts": [{"sub": "u-exp1"}, {"sub": "u-exp2"}, {"sub": "u-exp3"}], "methods": ["document_review", "site_visit"]}' | jq -r .status
SCORES=$(python3 -c 'import json; w=[5,3,3,2,3,2,2,2,2,2,6,6,7,8,7,6,3,3,3,3,3,3,3,5,6]; print(json.dumps({"scores": {str(i+1): x*0.8 for i, x in enumerate(w)}}))')
for T in "$E1" "$E2" "$E3"; do
  curl -sf -X PUT "$BASE/zones/$ZONE/assessment/scores" -H "$(auth "$T")" -H 'Content-Type: application/json' -d "$SCORES" >/dev/null
done
printf '%%PDF-1.4 panel report\n' > /tmp/report.pdf
REPORT=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$BUREAU")" -F file=@/tmp/report.pdf | jq -r .sha256)
post assessment/conclusion "$BUREAU" '{"passed": true, "report": {"sha256": "'"$REPORT"'", "name": "report.pdf"}, "reasons": "Panel report confirmed."}' \
  | jq -c '{status, assessment: {total: .assessment.total, maximum: .assessment.maximum, percentage: .assessment.percentage,
                                  groups: [.assessment.groups[] | {name, declared, max, score}]}}'

# 5. Public notice (公示) from Monday 2021-09-27: five working days end on 2021-10-08 (National Day skipped)
post notice "$BUREAU" '{"text": "松山湖软件和信息技术服务业集聚区 评估结果公示", "starts_on": "2021-09-27"}' | jq -c .notice.ends_on
curl -sf "$BASE/notices" | jq -c '.[0] | {zone_name, starts_on, ends_on, in_force}'

# 6. After the notice, with no objection open or upheld, the bureau recommends the grant (提请) and the
#    leading group grants the title by announcement (公告)
curl -sf -X PUT "$BASE/admin/clock" -H "$(auth "$BUREAU")" -H 'Content-Type: application/json' \
  -d '{"now": "2021-10-11T09:00:00+08:00"}' >/dev/null
printf '%%PDF-1.4 recommendation\n' > /tmp/recommendation.pdf
REC=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$BUREAU")" -F file=@/tmp/recommendation.pdf | jq -r .sha256)
post recommendation "$BUREAU" '{"document": {"sha256": "'"$REC"'", "name": "recommendation.pdf"}, "reasons": "经公示无异议，提请授予。"}' \
  | jq -r .status
printf '%%PDF-1.4 announcement\n' > /tmp/announcement.pdf
ANN=$(curl -sf -X POST "$BASE/documents" -H "$(auth "$LEADING")" -F file=@/tmp/announcement.pdf | jq -r .sha256)
post grant "$LEADING" '{"announcement_no": "东制造〔2021〕8号", "announced_on": "2021-10-11",
  "document": {"sha256": "'"$ANN"'", "name": "announcement.pdf"}}' | jq -c '{status, valid_until, version}'

# 7. What the record says
curl -sf "$BASE/zones/$ZONE/history" -H "$(auth "$BUREAU")" | jq -r '.[] | "\(.seq) \(.type) by \(.actor.role) at \(.at)"'
curl -sf "$BASE/audit/verify" -H "$(auth "$BUREAU")" | jq -c .
