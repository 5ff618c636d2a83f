def make_survey(env, title):
    """A survey sent by token with one optional 0-10 scale question (the
    recommendation question the detractor rules read)."""
    survey = env["survey.survey"].create({"title": title, "access_mode": "token"})
    question = env["survey.question"].create(
        {
            "survey_id": survey.id,
            "title": "From 0 to 10",
            "question_type": "scale",
            "scale_min": 0,
            "scale_max": 10,
        }
    )
    return survey, question
