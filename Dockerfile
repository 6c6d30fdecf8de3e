FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY scheduler ./scheduler
COPY zonecase ./zonecase
RUN pip install --no-cache-dir .
ENV ZONECASE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
CMD ["zonecase", "serve", "--host", "0.0.0.0", "--port", "8000"]
