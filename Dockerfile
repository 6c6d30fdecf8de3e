FROM python:3.11-slim
WORKDIR /app
# The whole source: the packages, the board's templates (api/templates) and browser files (web/), the record format.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY projections ./projections
COPY audit ./audit
COPY scheduler ./scheduler
COPY api ./api
COPY zonecase ./zonecase
COPY web ./web
COPY docs ./docs
# Editable: the board finds its templates and web/ beside the code.
RUN pip install --no-cache-dir -e .
ENV ZONECASE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
CMD ["zonecase", "serve", "--host", "0.0.0.0", "--port", "8000"]
