import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_rewards_tour", {
    steps: () => [
        {
            content: "Open My rewards from the portal home",
            trigger: ".o_portal_index_card a[href='/my/rewards']",
            run: "click",
        },
        {
            content: "The balance of the card",
            trigger: ".o_retention_rewards_card:contains('Tour Rewards Points') .o_retention_balance:contains('180 points')",
        },
        {
            content: "How points are earned",
            trigger: ".o_retention_ways li:contains('per order')",
        },
        {
            content: "How they were earned",
            trigger: ".o_retention_ledger_text:contains('Bonus: Welcome')",
        },
        {
            content: "The mug needs more points",
            trigger: ".o_retention_reward:contains('Tour mug') .o_retention_missing:contains('120 points to go')",
        },
        {
            content: "Claim the discount",
            trigger: ".o_retention_reward:contains('10% on your order') button.o_retention_claim",
            run: "click",
        },
        {
            content: "The code is shown",
            trigger: ".o_retention_claimed .o_retention_claimed_code",
        },
        {
            content: "and kept among the customer's codes",
            trigger: ".o_retention_codes .o_retention_code:contains('10% on your order')",
        },
        {
            content: "The points are spent",
            trigger: ".o_retention_balance:contains('80 points')",
        },
        {
            content: "Accept the club's terms",
            trigger: ".o_retention_joinable_club:contains('Tour Tasting Club') input[name='accept_terms']",
            run: "check",
        },
        {
            content: "Join the club",
            trigger: ".o_retention_joinable_club:contains('Tour Tasting Club') button.o_retention_join",
            run: "click",
        },
        {
            content: "The customer is a member and may leave",
            trigger: ".o_retention_club_line:contains('Tour Tasting Club') button.o_retention_leave",
        },
    ],
});
