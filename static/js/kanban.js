// Dashboard: kanban.
