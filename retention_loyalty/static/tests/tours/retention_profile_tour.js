import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_profile_tour", {
    steps: () => [
        {
            content: "Open Your profile from the portal home",
            trigger: ".o_portal_index_card a[href='/my/profile']",
            run: "click",
        },
        {
            content: "Tell the birthday",
            trigger: ".o_retention_profile_form input[name='birthday']",
            // A date input has no text to type into: set its value.
            run() {
                this.anchor.value = "1988-05-17";
            },
        },
        {
            content: "Pick an interest",
            trigger: ".o_retention_preference:contains('Tour Profile Beans') input",
            run: "check",
        },
        {
            content: "Answer the marketing question",
            trigger: "#retention_consent_yes",
            run: "check",
        },
        {
            content: "Save",
            trigger: "button.o_retention_profile_save",
            run: "click",
        },
        {
            content: "The bonus is announced",
            trigger: ".o_retention_profile_success:contains('You earned 50 points for completing your profile')",
        },
        {
            content: "Go to My rewards",
            trigger: ".o_retention_profile_saved a[href='/my/rewards']",
            run: "click",
        },
        {
            content: "The card holds the bonus",
            trigger: ".o_retention_rewards_card:contains('Tour Profile Club') .o_retention_balance:contains('50 points')",
        },
        {
            content: "and its ledger says why",
            trigger: ".o_retention_ledger_text:contains('Completed Profile')",
        },
    ],
});
