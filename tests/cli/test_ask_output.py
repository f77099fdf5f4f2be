"""What `desktop-rag ask` writes while the model answers: the answer as it will finally read."""

from __future__ import annotations

import re

from desktop_rag.cli.ask import AnswerPrinter
from desktop_rag.core.answer.answerer import NO_ANSWER_QUOTED
from desktop_rag.core.answer.tidy import tidy_answer
from desktop_rag.core.types import AnswerEvent


def _printed(reply: str, final: str, capsys) -> str:  # noqa: ANN001 - pytest's capsys
    printer = AnswerPrinter()
    for piece in re.findall(r"\S+\s*", reply):  # word by word, as llama.cpp streams
        printer(AnswerEvent("token", piece), None)
    printer.finish(final)
    return capsys.readouterr().out


def test_a_repeat_and_a_cut_off_fragment_are_never_written(capsys) -> None:  # noqa: ANN001
    # SmolLM2 wrote a sentence twice and then "The"; the window showed the tidy answer, the terminal all of it
    reply = ("The spec mentions a patent filed by GNOME.\nThe spec mentions a patent filed by GNOME.\nThe")
    final = tidy_answer(reply, cut_off=True)
    assert final == "The spec mentions a patent filed by GNOME."
    assert _printed(reply, final, capsys) == final


def test_sentences_are_written_as_they_end(capsys) -> None:  # noqa: ANN001
    printer = AnswerPrinter()
    printer(AnswerEvent("token", "The default weight is 50. The max"), None)
    assert capsys.readouterr().out == "The default weight is 50."
    printer(AnswerEvent("token", "imum is 100."), None)
    printer.finish("The default weight is 50. The maximum is 100.")
    assert capsys.readouterr().out == " The maximum is 100."


def test_an_answer_that_says_the_model_gave_none_is_written_whole(capsys) -> None:  # noqa: ANN001
    assert _printed("The answer is:\n\nThe answer is:\n\nThe", NO_ANSWER_QUOTED, capsys) == NO_ANSWER_QUOTED


def test_figures_no_quote_states_are_listed_for_checking(capsys) -> None:  # noqa: ANN001
    from desktop_rag.cli.ask import _print_sources, answer_to_json
    from desktop_rag.core.answer.answerer import UNQUOTED_NOTE
    from desktop_rag.core.types import Answer, AnswerSentence, Quote

    answer = Answer("What was revenue?", "Revenue was $700 million. It rose.",
                    sentences=[AnswerSentence("Revenue was $700 million.", (), True, unquoted=True),
                               AnswerSentence("It rose.", (), True)],
                    quotes=[Quote("Revenue 5,000 4,000", "a.pdf", "/a.pdf", 3, 1, 0, 19, 1)])
    data = answer_to_json(answer, "model", "cpu")
    assert data["unquoted"] == ["Revenue was $700 million."] and data["unsupported"] == []
    assert [s["unquoted"] for s in data["sentences"]] == [True, False]
    _print_sources(answer)
    assert f"{UNQUOTED_NOTE}\n  - Revenue was $700 million.\n" in capsys.readouterr().out
