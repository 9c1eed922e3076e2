"""The course kit: the student edition of the chapters, and the grading of submitted notebooks.

``python -m course.student``  writes the student edition (``make student``);
``python -m course.grade``    grades a folder of submitted notebooks (``make grade``).

Both read the exercise cells of a chapter as :mod:`course.exercise_cells` describes them; the
self-checks themselves live in :mod:`lib.exercises`, so that a student's notebook needs only
``lib``.
"""
